"""Translation command: run a trained image-to-image generator over a folder of images.

    python -m jaxgan.translate --workdir runs/pix2pix --input photos/ --output out/
    python -m jaxgan.translate --workdir runs/pix2pix --input facades/test --output out/ --pairs

Every image file directly in ``--input`` is resized (bicubic) to the size the model was trained on,
translated, and written to ``--output`` as a PNG of the same name. With ``--pairs`` the files are A|B
pairs as ``paired:`` sources read them (input on the left half, target on the right; ``--direction
BtoA`` swaps them), and each output is the strip input | output | target. A method that translates
both ways (CycleGAN, UNIT) or between N domains (ComboGAN) takes ``--direction`` as the way to translate:
AtoB reads images of domain A and writes their translations to B (CtoA: from the third domain to the first). Uses the EMA generator when the run kept one
(``--noema`` for the raw weights). An attribute-conditional method (StarGAN, Fader Networks) takes its
target as ``--attributes NAME=VALUE,...`` (0 for the attributes not named; Fader's values are sliders
anywhere in [0, 1]). A label-map run (pix2pixHD, SPADE) reads ``--input`` as label-map PNGs of class ids
(single-channel, as ``labelmap:`` folders hold them), resized by nearest neighbour; when its generator
sees instance boundaries, ``--instances`` names a folder of instance-id PNGs with the same file names.

    python -m jaxgan.translate --workdir runs/spade --input maps/labels --output out/ --instances maps/instances
    python -m jaxgan.translate --workdir runs/cyclegan --input horses/ --output zebras/ --direction AtoB
    python -m jaxgan.translate --workdir runs/stargan --input faces/ --output blond/ --attributes Blond_Hair=1
"""

from __future__ import annotations

import inspect
import os
from typing import Dict, List, Optional, Sequence, Tuple

import jax
import numpy as np
from absl import app, flags

from jaxgan import errors, images, restore, samples
from jaxgan.data import folder, transforms
from jaxgan.data.pipeline import to_float_image
from jaxgan.errors import DataSourceError

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The flags of ``python -m jaxgan.translate``, defined when it runs as a command rather than on import,
    so that the commands' modules (whose flags share names) can be imported together."""
    flags.DEFINE_string("workdir", None, "Workdir of a trained image-to-image run.")
    flags.DEFINE_string("input", None, "Folder of input images (or A|B pairs with --pairs).")
    flags.DEFINE_string("output", None, "Folder to write the translations to (created if missing).")
    flags.DEFINE_bool("pairs", False, "The input files are A|B pairs: write input | output | target strips.")
    flags.DEFINE_string("direction", "AtoB", "With --pairs: which half is the input (AtoB or BtoA); for a method "
                        "that translates between domains: which way, e.g. AtoB, BtoA, or CtoA with ComboGAN's domains.")
    flags.DEFINE_string("attributes", None, "For attribute-conditional methods (StarGAN, Fader): the target "
                        "attributes as NAME=VALUE pairs, e.g. thick=1,negative=0.5; unnamed attributes are 0.")
    flags.DEFINE_string("instances", None, "For label-map runs that use instance maps (pix2pixHD, SPADE): a folder "
                        "of instance-id PNGs named as the label maps in --input.")
    flags.DEFINE_integer("dataset", 0, "StarGAN with a mask vector: which dataset's attributes --attributes names.")
    flags.DEFINE_integer("step", None, "Checkpoint step (default: latest).")
    flags.DEFINE_bool("ema", True, "Use the EMA generator when the run has one.")
    flags.DEFINE_integer("seed", 0, "Seed of test-time dropout.")
    flags.DEFINE_integer("batch_size", 16, "Images per generator call.")
    flags.mark_flags_as_required(["workdir", "input", "output"])


def read_inputs(paths: List[str], shape: Tuple[int, int, int], pairs: bool, direction: str
                ) -> Tuple[np.ndarray, np.ndarray | None]:
    """(inputs, targets or None) as float32 [-1, 1], each resized to ``shape`` (H, W, C)."""
    from PIL import Image

    height, width, channels = shape
    mode = "L" if channels == 1 else "RGB"
    inputs, targets = [], []
    for path in paths:
        try:
            with Image.open(path) as image:
                image = image.convert(mode)
                halves = ([image.crop((0, 0, image.width // 2, image.height)),
                           image.crop((image.width // 2, 0, image.width, image.height))] if pairs else [image])
        except OSError as e:
            raise DataSourceError(f"cannot read image {path} ({e})") from e
        if pairs and direction == "BtoA":
            halves.reverse()
        arrays = [np.asarray(h.resize((width, height), Image.BICUBIC)).reshape(shape) for h in halves]
        inputs.append(arrays[0])
        targets.extend(arrays[1:])
    return to_float_image(np.stack(inputs)), to_float_image(np.stack(targets)) if pairs else None


def read_id_maps(paths: Sequence[str], size: Tuple[int, int], modes: Tuple[str, ...], what: str,
                 num_classes: Optional[int] = None) -> np.ndarray:
    """Single-channel id maps (stored pixel values, as ``labelmap:`` sources decode them) resized by nearest
    neighbour to ``size`` (H, W) as the training pipeline resizes them: int32 [n, H, W]. A DataSourceError
    names a file of another mode or, given ``num_classes``, one holding an id outside [0, num_classes)."""
    from PIL import Image

    maps = []
    for path in paths:
        try:
            with Image.open(path) as image:
                if image.mode not in modes:
                    raise DataSourceError(f"{path} is a {image.mode!r} image; {what} must be single-channel ids "
                                          f"(PNG modes {', '.join(modes)}), not colours: convert them to ids first")
                ids = np.asarray(image).astype(np.int32)
        except OSError as e:
            raise DataSourceError(f"cannot read {what} {path} ({e})") from e
        if num_classes is not None and ids.max() >= num_classes:
            raise DataSourceError(f"{path} holds class id {int(ids.max())}; this run has {num_classes} label classes "
                                  f"(ids 0..{num_classes - 1}): fix the map, or translate it with a run trained on "
                                  "its classes")
        maps.append(ids if ids.shape == tuple(size) else transforms._resize(ids, tuple(size), "nearest"))
    return np.stack(maps)


def _matching_files(paths: Sequence[str], directory: str, flag: str) -> List[str]:
    """The file of ``directory`` with each path's name (any image extension), or a DataSourceError."""
    if not os.path.isdir(directory):
        raise DataSourceError(f"{flag} {directory}: no such folder")
    by_stem = {os.path.splitext(os.path.basename(p))[0]: p for p in folder.image_files(directory)}
    missing = [p for p in paths if os.path.splitext(os.path.basename(p))[0] not in by_stem]
    if missing:
        raise DataSourceError(f"{flag} {directory}: no file named as {missing[0]} (and {len(missing) - 1} more); "
                              "give every label map its instance map, with the same name")
    return [by_stem[os.path.splitext(os.path.basename(p))[0]] for p in paths]


def attribute_vector(names: Sequence[str], spec: str) -> np.ndarray:
    """'thick=1,negative=0.5' -> one value per attribute of ``names`` (0 where unnamed); a ConfigError
    naming the unknown attribute or the malformed pair."""
    values = np.zeros(len(names), np.float32)
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, sep, value = item.partition("=")
        if name not in names:
            raise errors.ConfigError(f"--attributes: unknown attribute {name!r}; this run's are {', '.join(names)}")
        try:
            values[list(names).index(name)] = float(value) if sep else 1.0
        except ValueError as e:
            raise errors.ConfigError(f"--attributes: {item!r} is not NAME=VALUE with a number") from e
    return values


def _target_options(run, attributes: Optional[str], dataset: int) -> Dict[str, object]:
    """The keyword arguments that choose the target of an attribute-conditional method's translation."""
    parameters = inspect.signature(run.method.translate).parameters
    keyword = next((k for k in ("target", "attributes") if k in parameters), None)
    if keyword is None:
        if attributes is not None:
            raise errors.ConfigError(f"--attributes: method {run.config.method!r} does not translate to attributes")
        return {}
    if attributes is None:
        raise errors.ConfigError(f"method {run.config.method!r} translates to target attributes: pass --attributes "
                                 f"NAME=VALUE,... (attributes: {', '.join(run.data.attribute_names)})")
    names = run.method.label_sets[dataset].names if hasattr(run.method, "label_sets") else run.data.attribute_names
    options = {keyword: attribute_vector(tuple(names), attributes)}
    return {**options, "dataset": dataset} if "dataset" in parameters else options


def translate_folder(workdir: str, input_dir: str, output_dir: str, *, pairs: bool = False,
                     direction: str = "AtoB", step=None, use_ema: bool = True, seed: int = 0,
                     batch_size: int = 16, attributes: Optional[str] = None, dataset: int = 0,
                     instances: Optional[str] = None) -> List[str]:
    """Translates every image in ``input_dir`` with the run in ``workdir`` (label maps, with the instance
    maps of ``instances`` where the run uses them, for a label-map run); returns the written paths."""
    run = restore.restore_run(workdir, step)
    if not hasattr(run.method, "translate"):
        raise errors.ConfigError(f"method {run.config.method!r} does not translate images; "
                                 "jaxgan.translate is for image-to-image runs (use jaxgan.sample)")
    if not os.path.isdir(input_dir):
        raise DataSourceError(f"--input {input_dir}: no such folder")
    paths = folder.image_files(input_dir)
    if not paths:
        raise DataSourceError(f"--input {input_dir}: no image files ({', '.join(folder.IMAGE_EXTENSIONS)}) in it")
    source, _, target = direction.partition("to")
    if not (len(source) == len(target) == 1 and source.isupper() and target.isupper() and source != target):
        raise errors.ConfigError(f"--direction={direction!r}: write XtoY with the domains' letters, e.g. AtoB")
    parameters = inspect.signature(run.method.translate).parameters
    if pairs and direction not in ("AtoB", "BtoA"):
        raise errors.ConfigError(f"--direction={direction!r}: the halves of --pairs files are A and B")
    label_maps = "label_map" in run.data.batch  # pix2pixHD, SPADE: class-id maps -> images.
    uses_instances = label_maps and getattr(run.method, "use_instances", False)
    if pairs and label_maps:
        raise errors.ConfigError("--pairs: a label-map run reads label-map PNGs, not A|B image pairs")
    if instances is not None and not uses_instances:
        raise errors.ConfigError(f"--instances: method {run.config.method!r} of this run does not read instance maps")
    if uses_instances and instances is None:
        raise errors.ConfigError("this run's generator reads instance boundaries (config.model.use_instance_map): "
                                 "pass --instances FOLDER with an instance-id PNG named as each label map")
    instance_paths = _matching_files(paths, instances, "--instances") if uses_instances else None
    if "image" in run.data.batch:
        shape = run.data.image_shape
    elif label_maps:
        shape = run.data.shape("label_map")
    else:
        shape = run.data.shape(f"image_{source.lower()}" if "direction" in parameters or "source" in parameters
                               else "image_a")
    if "direction" in parameters:  # Two domains (CycleGAN, UNIT): the way to translate.
        options = {"direction": direction}
    elif "source" in parameters:  # N domains (ComboGAN): their indices.
        options = {"source": ord(source) - ord("A"), "target": ord(target) - ord("A")}
    else:
        options = _target_options(run, attributes, dataset)
    variables = run.state.generator_variables(use_ema)
    translate = jax.jit(lambda v, x, key, maps: run.method.translate(v, x, key, **options, **maps))
    os.makedirs(output_dir, exist_ok=True)
    written = []
    for start in range(0, len(paths), batch_size):
        chunk = paths[start:start + batch_size]
        maps = {}
        if label_maps:
            x, y = read_id_maps(chunk, shape, ("L", "P"), "label maps", run.data.num_label_classes), None
            if uses_instances:
                maps["instance_map"] = read_id_maps(instance_paths[start:start + batch_size], shape,
                                                    ("L", "I", "I;16"), "instance maps")
        else:
            x, y = read_inputs(chunk, shape, pairs, direction)
        out = np.asarray(translate(variables, x, jax.random.fold_in(jax.random.PRNGKey(seed), start), maps))
        columns = [x, out, y] if pairs else [out]
        for i, path in enumerate(chunk):
            strip = np.asarray(samples.compose_columns([c[i:i + 1] for c in columns]))
            target = os.path.join(output_dir, os.path.splitext(os.path.basename(path))[0] + ".png")
            images.write_png(target, images.make_grid(images.to_uint8(strip), ncol=len(columns), padding=2 if pairs else 0))
            written.append(target)
    return written


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    with errors.reported():
        written = translate_folder(FLAGS.workdir, FLAGS.input, FLAGS.output, pairs=FLAGS.pairs,
                                   direction=FLAGS.direction, step=FLAGS.step, use_ema=FLAGS.ema,
                                   seed=FLAGS.seed, batch_size=FLAGS.batch_size, attributes=FLAGS.attributes,
                                   dataset=FLAGS.dataset, instances=FLAGS.instances)
    print(f"Wrote {len(written)} translation(s) to {FLAGS.output}")


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=errors.parse_flags)
