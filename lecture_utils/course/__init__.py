"""Course tooling, apart from the lecture's mathematics: the student edition, the Colab setup
cell, the environment check and what every notebook calls first (``setup``, ``show``)."""
