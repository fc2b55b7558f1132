"""mcg-gen: Multicloud GitOps repositories from a concise pattern spec."""

__version__ = "0.1.0"
