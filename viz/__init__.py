"""viz: pictures of tinygrad_edu graphs (Graphviz) and of training (matplotlib).

    g = viz.draw_graph(loss, params=dict(model.named_parameters()))
    viz.render(g, "graph.svg")            # or `g` as the last line of a Jupyter cell
    viz.plot_history(solver.history, "curves.png")
    viz.backprop_steps(loss).save("steps.html")   # backward, one node at a time

Depends on tinygrad_edu, never the reverse: drawing is `viz.draw_graph(loss)`, not a Tensor method.
"""

from viz import examples
from viz.graph import GraphvizNotFoundError, draw_graph, render
from viz.plots import (
    plot_class_templates,
    plot_heatmap,
    plot_history,
    plot_weight_grid,
    smooth_curve,
    tile_images,
)
from viz.steps import StepsView, backprop_steps

__all__ = [
    "draw_graph", "render", "backprop_steps", "StepsView", "GraphvizNotFoundError", "examples",
    "plot_history",
    "plot_weight_grid", "plot_class_templates", "plot_heatmap", "smooth_curve", "tile_images",
]
