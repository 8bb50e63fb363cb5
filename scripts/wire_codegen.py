"""Generates TF Serving's message modules without TensorFlow, as package ``envsound_wire``.

The descriptors come from PyPI's ``tensorflow-protobuf`` (Apache-2.0: TensorFlow's and TF
Serving's own ``.proto`` definitions, shipped compiled). Each file's serialized
FileDescriptorProto is read from its ``*_pb2.py`` without importing it, renamed into
``envsound_wire`` (file paths ``envsound_wire/...``, proto packages ``envsound_wire.tensorflow``
and ``envsound_wire.tensorflow.serving``) so that the modules live beside TensorFlow's own in
one process, and handed to grpcio-tools' protoc (``--descriptor_set_in``) for Python code.
Field numbers and types are untouched, so the bytes on the wire are TF Serving's.

Run by setup.py's build step; also runnable by hand: ``python scripts/wire_codegen.py OUT_DIR``.
"""

import ast
import importlib
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

PACKAGE = 'envsound_wire'
SOURCE_DISTRIBUTION = 'tensorflow-protobuf'
# The files a TF Serving client needs; everything they import is generated too.
ROOTS = tuple(f'tensorflow_serving/apis/{name}.proto' for name in (
    'predict', 'get_model_metadata', 'get_model_status', 'prediction_service'))
_RENAMED_PROTO_PACKAGE = 'tensorflow'


def serialized_descriptor(pb2_path: Path) -> bytes:
  """The FileDescriptorProto bytes a protoc-generated ``*_pb2.py`` registers."""
  tree = ast.parse(pb2_path.read_text())
  for node in ast.walk(tree):
    if not isinstance(node, ast.Call):
      continue
    name = getattr(node.func, 'attr', getattr(node.func, 'id', ''))
    args = list(node.args) if name == 'AddSerializedFile' else [
        k.value for k in node.keywords if k.arg == 'serialized_pb']
    for arg in args:
      if isinstance(arg, ast.Constant) and isinstance(arg.value, bytes):
        return arg.value
  raise ValueError(f'{pb2_path}: no serialized FileDescriptorProto found')


def source_descriptors():
  """FileDescriptorProtos by file name, read from the installed tensorflow-protobuf."""
  from google.protobuf import descriptor_pb2  # pylint: disable=import-outside-toplevel
  dist = metadata.distribution(SOURCE_DISTRIBUTION)
  found = {}
  for file in dist.files or ():
    if file.name.endswith('_pb2.py'):
      proto = descriptor_pb2.FileDescriptorProto.FromString(
          serialized_descriptor(Path(file.locate())))
      found[proto.name] = proto
  if not found:
    raise RuntimeError(f'{SOURCE_DISTRIBUTION} {dist.version} holds no *_pb2.py modules')
  return found


def _closure(descriptors, roots):
  """The files ``roots`` import, directly or not, that the package holds."""
  wanted, todo = set(), list(roots)
  while todo:
    name = todo.pop()
    if name in wanted or name not in descriptors:
      continue
    wanted.add(name)
    todo.extend(descriptors[name].dependency)
  return sorted(wanted)


def _symbols(files):
  """Fully qualified (leading dot) names of the messages and enums ``files`` define."""
  found = set()

  def visit(scope, messages, enums):
    found.update(f'{scope}.{e.name}' for e in enums)
    for message in messages:
      found.add(f'{scope}.{message.name}')
      visit(f'{scope}.{message.name}', message.nested_type, message.enum_type)

  for f in files:
    visit(f'.{f.package}' if f.package else '', f.message_type, f.enum_type)
  return found


def _without_missing(files, held, well_known):
  """Drops imports of files the package lacks; enum fields of their types become int32.

  tensorflow-protobuf omits tensorflow/tsl/protobuf/error_codes.proto, whose enum
  ``tensorflow.error.Code`` StatusProto uses: an enum and an int32 are the same varint on the
  wire. A missing message type cannot be replaced and fails the build.
  """
  from google.protobuf import descriptor_pb2  # pylint: disable=import-outside-toplevel
  known = _symbols(list(files) + list(well_known))
  field_type = descriptor_pb2.FieldDescriptorProto

  def patch(messages, where):
    for message in messages:
      for field in message.field:
        if field.type_name and field.type_name not in known:
          if field.type != field_type.TYPE_ENUM:
            raise RuntimeError(f'{where}: {field.type_name} is in no file of '
                               f'{SOURCE_DISTRIBUTION}')
          field.type = field_type.TYPE_INT32
          field.ClearField('type_name')
      patch(message.nested_type, where)

  for f in files:
    keep = [i for i, d in enumerate(f.dependency) if d in held or d.startswith('google/')]
    public = [keep.index(i) for i in f.public_dependency if i in keep]
    f.dependency[:] = [f.dependency[i] for i in keep]
    f.public_dependency[:] = public
    patch(f.message_type, f.name)
  return files


def _renamed_type(name: str) -> str:
  if name == f'.{_RENAMED_PROTO_PACKAGE}' or name.startswith(f'.{_RENAMED_PROTO_PACKAGE}.'):
    return f'.{PACKAGE}{name}'
  return name


def _rename_message(message) -> None:
  for field in list(message.field) + list(message.extension):
    if field.type_name:
      field.type_name = _renamed_type(field.type_name)
    if field.extendee:
      field.extendee = _renamed_type(field.extendee)
  for nested in message.nested_type:
    _rename_message(nested)


def renamed(proto):
  """A copy of a FileDescriptorProto moved into the ``envsound_wire`` namespace."""
  proto = type(proto).FromString(proto.SerializeToString())
  rename_file = lambda n: n if n.startswith('google/protobuf/') else f'{PACKAGE}/{n}'
  proto.name = rename_file(proto.name)
  proto.dependency[:] = [rename_file(d) for d in proto.dependency]
  if proto.package:
    proto.package = f'{PACKAGE}.{proto.package}'
  for message in proto.message_type:
    _rename_message(message)
  for field in proto.extension:
    field.type_name = _renamed_type(field.type_name)
    field.extendee = _renamed_type(field.extendee)
  for service in proto.service:
    for method in service.method:
      method.input_type = _renamed_type(method.input_type)
      method.output_type = _renamed_type(method.output_type)
  return proto


def _well_known(names):
  """FileDescriptorProtos of the google/protobuf files ``names`` import, from the runtime."""
  from google.protobuf import descriptor_pb2  # pylint: disable=import-outside-toplevel
  out = []
  for name in sorted(names):
    module = importlib.import_module(name[:-len('.proto')].replace('/', '.') + '_pb2')
    proto = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(proto)
    out.append(proto)
  return out


def generate(out_dir) -> list:
  """Writes ``out_dir/envsound_wire/`` (replacing it); returns its package names."""
  from google.protobuf import descriptor_pb2  # pylint: disable=import-outside-toplevel
  from grpc_tools import protoc  # pylint: disable=import-outside-toplevel
  out_dir = Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  descriptors = source_descriptors()
  names = _closure(descriptors, ROOTS)
  held = {f'{PACKAGE}/{n}' for n in names}
  files = [renamed(descriptors[n]) for n in names]
  well_known = _well_known({d for f in files for d in f.dependency
                            if d.startswith('google/protobuf/')})
  files = _without_missing(files, held, well_known)
  descriptor_set = descriptor_pb2.FileDescriptorSet(file=well_known + files)
  target = out_dir / PACKAGE
  shutil.rmtree(target, ignore_errors=True)
  with tempfile.TemporaryDirectory() as tmp:
    set_path = Path(tmp) / 'wire.pb'
    set_path.write_bytes(descriptor_set.SerializeToString())
    code = protoc.main(['protoc', f'--descriptor_set_in={set_path}', f'--python_out={out_dir}',
                        *(f.name for f in files)])
  if code != 0:
    raise RuntimeError(f'protoc failed ({code}) generating {PACKAGE}')
  version = metadata.version(SOURCE_DISTRIBUTION)
  (target / '__init__.py').write_text(
      f'"""TF Serving\'s messages, generated at build time from {SOURCE_DISTRIBUTION} '
      f'{version} (do not edit)."""\n')
  packages = []
  for folder in sorted(p for p in target.rglob('*') if p.is_dir()) + [target]:
    (folder / '__init__.py').touch()
    packages.append('.'.join(folder.relative_to(out_dir).parts))
  return sorted(packages)


if __name__ == '__main__':
  print('\n'.join(generate(sys.argv[1] if len(sys.argv) > 1 else '.')))
