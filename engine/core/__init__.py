"""What every model in the engine shares: errors, file writes, devices, checkpoints, mixture
heads, LSTM helpers, the one trainer and the table of knobs. Knows nothing of dance or sketches."""
