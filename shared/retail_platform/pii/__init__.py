"""Card data (PCI DSS) detection and masking; compliance-guardian owns and extends it."""
