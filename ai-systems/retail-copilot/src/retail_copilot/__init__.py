"""retail-copilot: conversational answers over the platform's prod data (deterministic NL -> typed plan -> pandas)."""
