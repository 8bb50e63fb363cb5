"""The window's file dialogs and what it remembers between runs (a mixin of ``app.App``)."""

from pathlib import Path

from tkinter import filedialog

AUDIO = ('*.wav', '*.flac', '*.ogg', '*.mp3', '*.aiff', '*.aif', '*.opus')


class Dialogs:
  """Asks for files and folders, then hands them to the App's methods."""

  def choose_files(self) -> None:
    paths = filedialog.askopenfilenames(
        parent=self.root, title='Add .npy clips or audio files',
        initialdir=self.memory.get('folder'),
        filetypes=[('Clips and audio', ('*.npy',) + AUDIO), ('NumPy arrays', '*.npy'),
                   ('Audio files', AUDIO), ('All files', '*')])
    if paths:
      self.remember(folder=str(Path(paths[0]).parent))
      self.load_files(paths)

  def choose_folder(self) -> None:
    folder = filedialog.askdirectory(parent=self.root,
                                     title='Add every .npy and audio file in a folder',
                                     initialdir=self.memory.get('folder'))
    if folder:
      self.remember(folder=folder)
      self.load_files([folder])

  def choose_reference(self) -> None:
    folder = filedialog.askdirectory(parent=self.root, title='Reference set (manifest.csv)',
                                     initialdir=str(self.reference_dir or ''))
    if folder:
      self.load_reference(Path(folder), chosen=True)

  def choose_csv(self, selection_only: bool = False) -> None:
    name = 'envsound_selection.csv' if selection_only else 'envsound_predictions.csv'
    path = filedialog.asksaveasfilename(parent=self.root, defaultextension='.csv',
                                        initialdir=self.memory.get('folder'),
                                        initialfile=name, title='Export predictions (CSV)')
    if path:
      self.export_csv(path, selection_only)

  def choose_selection_csv(self) -> None:
    self.choose_csv(selection_only=True)

  def choose_png(self) -> None:
    path = filedialog.asksaveasfilename(parent=self.root, defaultextension='.png',
                                        initialdir=self.memory.get('folder'),
                                        initialfile='envsound_map.png', title='Save the map')
    if path:
      self.save_png(path)
