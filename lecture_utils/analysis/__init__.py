"""Analysis tools: the tiny cost functions, the likelihood criterion, gradient checks, Hessians
and critical points, paths versus dynamic programming, signal propagation, gradient noise."""
