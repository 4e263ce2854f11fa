"""The dataset: consent-filtered exports (Hugging Face ImageFolder, Croissant, datasheet), their
manifests, and the collector's dataset settings."""
