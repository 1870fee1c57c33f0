"""Score-based searches over a covariance matrix (Numba kernels): GRaSP, and the shared grow-shrink kernel."""
