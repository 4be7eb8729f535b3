"""Video cameras (GB/T 28181): their codes decoded, positions, lens direction and PTZ type."""
