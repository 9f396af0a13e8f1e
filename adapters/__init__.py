"""ERP adapters: each translates one ERP into the core's plain types and back."""
