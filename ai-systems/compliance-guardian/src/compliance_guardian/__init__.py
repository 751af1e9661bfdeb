"""compliance-guardian: PCI DSS card-data protection and transaction fraud detection (domain core, no Lambda)."""

NAME = "compliance-guardian"
