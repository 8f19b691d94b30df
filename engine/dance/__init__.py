"""Dance: clips and their readers, skeletons, what the network sees, the LSTM + mixture model,
its training task, generation, the procedural dancer, rendering, export and quality figures."""
