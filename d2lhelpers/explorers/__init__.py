"""The plain functions behind the notebooks' explorers, one module per section."""
