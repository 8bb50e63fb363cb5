"""The results table's cell texts without Tk: compact Top 3, short class names, elision."""

from envsound.gui import columns


def test_class_names_shorten_to_their_last_word_when_those_stay_distinct():
  names = ['urban_traffic', 'rail', 'nature_birdsong', 'speech crowd']
  assert columns.short_names(names) == {'urban_traffic': 'traffic', 'rail': 'rail',
                                        'nature_birdsong': 'birdsong',
                                        'speech crowd': 'crowd'}
  clash = ['road_noise', 'rail_noise', 'music']  # 'noise' twice: keep every name whole
  assert columns.short_names(clash) == {n: n for n in clash}


def test_top3_is_compact():
  short = columns.short_names(['rail', 'urban_traffic', 'nature_birdsong'])
  top = [('rail', 0.8123), ('urban_traffic', 0.1201), ('nature_birdsong', 0.05)]
  assert columns.format_top3(top, short) == 'rail 0.81 · traffic 0.12 · birdsong 0.05'


def test_names_too_long_are_cut_in_the_middle_to_the_width():
  name = 'recording_2024-06-01_platform_3_evening_rush.npy'
  assert columns.elide_middle(name, len(name), len) == name
  for width in (30, 17, 8, 1):
    cut = columns.elide_middle(name, width, len)
    assert len(cut) == width and columns.ELLIPSIS in cut
    head, tail = cut.split(columns.ELLIPSIS)
    assert name.startswith(head) and name.endswith(tail)
    assert len(head) - len(tail) in (0, 1)  # as much of the start as of the end
  assert columns.elide_middle(name, 30, len).endswith('rush.npy')  # the extension stays
  assert columns.elide_middle(name, 0, len) == columns.ELLIPSIS  # nothing fits: the mark
