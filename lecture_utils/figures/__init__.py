"""Figures and widgets: the shared plot style, each notebook's pure figures, and the live
figures whose sliders redraw them."""
