"""Figures for the notebooks: class counts, loss curves and labelled image grids.

Each function draws one figure and returns it; the notebooks display it. Images
are uint8 (0-255) or float (0-1) arrays of shape (N, H, W, C) with C = 1 or 3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = [
    "plot_class_counts",
    "plot_history",
    "image_grid",
    "tile",
    "contact_sheet",
    "plot_latent_pca",
]


def _as_displayable(image: np.ndarray) -> tuple[np.ndarray, str | None]:
    """Return an image and colour map that ``imshow`` draws without rescaling."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(image, 0.0, 1.0)
    if image.ndim == 3 and image.shape[-1] == 1:
        return image[..., 0], "gray"
    return image, None


def _show(axis, image: np.ndarray) -> None:
    picture, cmap = _as_displayable(image)
    vmax = 255 if picture.dtype == np.uint8 else 1.0
    axis.imshow(picture, cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest")
    axis.set_xticks([])
    axis.set_yticks([])


def plot_class_counts(counts: Mapping[str, Mapping[str, int]], title: str = "Images per class") -> Figure:
    """Draw grouped bars of images per class, one group per class.

    Each bar carries its count, written upright so that the labels of
    neighbouring bars do not overlap. The legend sits to the right of the axes,
    clear of the bars.

    Parameters
    ----------
    counts : mapping
        Series name (for example ``"before"``, ``"after"``) -> class name -> count.
        All series list the same classes.
    title : str
        Figure title.
    """
    series = list(counts)
    class_names = list(next(iter(counts.values())))
    positions = np.arange(len(class_names))
    width = 0.8 / len(series)
    group_width = 0.25 * len(series) + 0.2
    figure, axis = plt.subplots(figsize=(max(6.0, group_width * len(class_names) + 2.0), 3.8))
    for offset, name in enumerate(series):
        values = [counts[name].get(cls, 0) for cls in class_names]
        bars = axis.bar(positions + (offset - (len(series) - 1) / 2) * width, values, width, label=name)
        axis.bar_label(bars, fontsize=7, padding=2, rotation=90)
    # Head room above the tallest bar for its label.
    axis.set_ylim(0, axis.get_ylim()[1] * 1.15)
    axis.set_xticks(positions, class_names, rotation=30, ha="right")
    axis.set_ylabel("images")
    axis.set_title(title)
    if len(series) > 1:
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    figure.tight_layout()
    return figure


def plot_history(history: Mapping[str, Sequence[float]]) -> Figure:
    """Draw the training curves: reconstruction and penalty side by side.

    Both panels show a mean squared error on pixels in [0, 1] on a logarithmic
    axis, with a legend naming the images each curve is measured on.

    Parameters
    ----------
    history : mapping
        Metric name -> value per epoch, as in ``keras.callbacks.History.history``.
    """
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    epochs = np.arange(1, len(history["loss"]) + 1)
    axes[0].plot(epochs, history["reconstruction"], marker="o", label="training (all classes)")
    if "val_reconstruction" in history:
        axes[0].plot(epochs, history["val_reconstruction"], marker="o", label="held-out test")
    axes[0].set_title("Reconstruction term")
    axes[1].plot(epochs, history["penalty"], marker="o", color="tab:red", label="training (one class per batch)")
    axes[1].set_title("Penalty term")
    for axis in axes:
        axis.set_xlabel("epoch")
        axis.set_ylabel("MSE, pixels in [0, 1]")
        axis.set_yscale("log")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.legend(fontsize="small")
    figure.tight_layout()
    return figure


def image_grid(
    rows: Sequence[np.ndarray],
    row_labels: Sequence[str],
    title: str | None = None,
    column_labels: Sequence[str] | None = None,
    scale: float = 1.1,
) -> Figure:
    """Draw rows of images with a label at the left of each row.

    Parameters
    ----------
    rows : sequence of ndarray, each of shape (n, H, W, C)
        One array per row; rows may have different lengths.
    row_labels : sequence of str
        Label per row, for example ``"real"`` and ``"synthetic"``.
    title : str, optional
        Figure title.
    column_labels : sequence of str, optional
        Label above each column of the first row.
    scale : float
        Inches per image.
    """
    n_columns = max(len(row) for row in rows)
    if n_columns == 0:
        figure, axis = plt.subplots(figsize=(4, 0.8))
        axis.axis("off")
        axis.text(0.5, 0.5, f"{title or 'Images'}: no images to show", ha="center", va="center")
        return figure
    figure, axes = plt.subplots(len(rows), n_columns, figsize=(scale * n_columns + 1, scale * len(rows) + 0.4),
                                squeeze=False)
    for r, (row, label) in enumerate(zip(rows, row_labels)):
        for c in range(n_columns):
            axis = axes[r, c]
            if c < len(row):
                _show(axis, row[c])
            else:
                axis.axis("off")
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    if column_labels is not None:
        for c, label in enumerate(column_labels):
            axes[0, c].set_title(label, fontsize=8)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def tile(images: np.ndarray, n_columns: int, gap: int = 1) -> np.ndarray:
    """Arrange images (n, H, W, C) in a grid of ``n_columns``, with ``gap`` pixels of white between them.

    Returns an array of the input dtype, shape (rows * (H + gap) - gap, n_columns * (W + gap) - gap, C).
    """
    images = np.asarray(images)
    n, height, width, channels = images.shape
    n_rows = max(1, int(np.ceil(n / n_columns)))
    white = 255 if images.dtype == np.uint8 else 1.0
    sheet = np.full((n_rows * (height + gap) - gap, n_columns * (width + gap) - gap, channels), white,
                    dtype=images.dtype)
    for index, image in enumerate(images):
        row, column = divmod(index, n_columns)
        top, left = row * (height + gap), column * (width + gap)
        sheet[top:top + height, left:left + width] = image
    return sheet


def contact_sheet(images: np.ndarray, title: str, n_columns: int = 16, scale: float = 0.5) -> Figure:
    """Draw up to a few hundred images in a tight grid under one title.

    Parameters
    ----------
    images : ndarray, shape (n, H, W, C)
        Images to show, in order.
    title : str
        Title, for example the class name and counts.
    n_columns : int
        Images per row.
    scale : float
        Inches per image.
    """
    n_columns = max(1, min(n_columns, len(images)))
    n_rows = max(1, int(np.ceil(len(images) / n_columns)))
    figure, axis = plt.subplots(figsize=(scale * n_columns, scale * n_rows + 0.4))
    _show(axis, tile(images, n_columns))
    axis.set_title(title, fontsize=9)
    figure.tight_layout()
    return figure


def plot_latent_pca(
    real_codes: np.ndarray,
    real_labels: np.ndarray,
    synthetic_codes: np.ndarray,
    synthetic_labels: np.ndarray,
    class_names: Sequence[str],
    classes_to_show: Sequence[int],
    segments: Sequence[tuple[int, int, int]] = (),
    random_state: int = 0,
) -> Figure:
    """Project codes to 2-D with PCA and draw real and synthetic codes of a few classes.

    Parameters
    ----------
    real_codes, synthetic_codes : ndarray, shape (n, latent_dim)
    real_labels, synthetic_labels : ndarray of int, shape (n,)
    class_names : sequence of str
        Name per class index.
    classes_to_show : sequence of int
        Class indices to draw; PCA is fitted on their real codes.
    segments : sequence of (synthetic index, parent_a index, parent_b index)
        Interpolations to draw as a line from parent_a to parent_b through the synthetic code,
        in the colour of the class of parent_a (black for a class not shown).
    random_state : int
        Seed of the PCA solver.
    """
    from sklearn.decomposition import PCA

    shown = np.isin(real_labels, classes_to_show)
    pca = PCA(n_components=2, random_state=random_state).fit(real_codes[shown])
    figure, axis = plt.subplots(figsize=(8.5, 5))
    colours = plt.get_cmap("tab10")
    for order, label in enumerate(classes_to_show):
        real = pca.transform(real_codes[real_labels == label])
        # Real codes above synthetic ones: there can be a hundred times more synthetic codes.
        axis.scatter(real[:, 0], real[:, 1], s=10, color=colours(order), alpha=0.6, zorder=3,
                     label=f"{class_names[label]} real")
        synthetic = synthetic_codes[synthetic_labels == label]
        if len(synthetic):
            projected = pca.transform(synthetic)
            axis.scatter(projected[:, 0], projected[:, 1], s=18, marker="x", color=colours(order), alpha=0.4,
                         zorder=2, label=f"{class_names[label]} synthetic")
    order_of = {label: order for order, label in enumerate(classes_to_show)}
    for synthetic_index, parent_a, parent_b in segments:
        ends = pca.transform(real_codes[[parent_a, parent_b]])
        middle = pca.transform(synthetic_codes[[synthetic_index]])
        # A segment takes the colour of its class, over a wider black line that keeps it visible against the dots.
        label = real_labels[parent_a]
        colour = colours(order_of[label]) if label in order_of else "black"
        axis.plot(ends[:, 0], ends[:, 1], color="black", linewidth=3.0, zorder=4)
        axis.plot(ends[:, 0], ends[:, 1], color=colour, linewidth=1.6, zorder=4)
        axis.scatter(middle[:, 0], middle[:, 1], s=60, facecolors="none", edgecolors="black", linewidths=1.2, zorder=5)
    ratio = pca.explained_variance_ratio_
    axis.set_xlabel(f"PC 1 ({ratio[0]:.0%} of the variance)")
    axis.set_ylabel(f"PC 2 ({ratio[1]:.0%} of the variance)")
    axis.set_title("Codes on the first two principal components of the classes shown", fontsize=10)
    axis.legend(fontsize=9, markerscale=1.8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    return figure

