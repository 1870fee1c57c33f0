"""Image formats and atomic saving of figures: :func:`image_format_for`, :func:`save_figure`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ililab.errors import UsageError
from ililab.viz._style import IMAGE_FORMATS

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def image_format_for(path: str | Path) -> str:
    """``png``, ``svg`` or ``pdf`` from the extension of ``path``.

    Examples
    --------
    >>> image_format_for("figure.SVG")
    'svg'
    >>> image_format_for("figure.jpg")
    Traceback (most recent call last):
    ...
    ililab.errors.UsageError: cannot tell the image format of 'figure.jpg' from its extension; use .png, .svg or .pdf
    """
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in IMAGE_FORMATS:
        raise UsageError(f"cannot tell the image format of {str(path)!r} from its extension; use .png, .svg or .pdf")
    return suffix


def save_figure(fig: Figure, path: str | Path, dpi: float = 150) -> Path:
    """Save ``fig`` atomically; the format follows the extension (png, svg, pdf).

    SVG keeps text as ``<text>`` (fonts are not turned into paths) and PDF
    embeds TrueType fonts, so both stay editable; output is reproducible
    (no creation date, fixed SVG ids).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(1, 1))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_figure(fig, pathlib.Path(tmp) / "empty.pdf")
    ...     print(path.name, path.read_bytes()[:4])
    empty.pdf b'%PDF'
    """
    import matplotlib

    from ililab.io import atomic_write

    fmt = image_format_for(path)
    if not dpi or dpi <= 0:
        raise UsageError(f"--dpi must be positive, got {dpi}")
    metadata = {
        "png": {"Software": "ililab"},
        "svg": {"Date": None, "Creator": "ililab"},
        "pdf": {"CreationDate": None, "Creator": "ililab"},
    }

    def write(tmp: Path) -> None:
        with matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42, "svg.hashsalt": "ililab"}):
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", pad_inches=0.15, metadata=metadata[fmt], facecolor="white")

    return atomic_write(path, write)
