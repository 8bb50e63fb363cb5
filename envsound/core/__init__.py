"""The vocabulary every part of envsound shares: names, formats, rules and errors."""
