"""Reference implementations the tests compare the platform's code with."""
