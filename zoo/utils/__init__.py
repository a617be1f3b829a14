"""What every layer may use: atomic writes, safe file reading, the preprocessing record, weight
initialisation, the config builder (registered targets only), headless plots, one-line errors."""
