"""Frozen, typed in-toto metadata: links, layouts, rules, envelopes; strict parsing."""
