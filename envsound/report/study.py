"""The research project's published Results table, which every report reproduces."""

# Approach -> (training set, validation accuracy), as the research project reports them.
STUDY_RESULTS = {'cnn2d': ('500 spectrogram-images', 0.35),
                 'cnn1d': ('22k balanced embeddings', 0.41),
                 'cnn1d_150k': ('150k balanced + unbalanced', 0.43)}
STUDY_ORDER = ('cnn1d_150k', 'cnn1d', 'cnn2d')  # best first, as the research project reports
