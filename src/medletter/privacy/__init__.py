"""Privacy: the offline guard, detection and pseudonymisation of patient information, leak audit."""
