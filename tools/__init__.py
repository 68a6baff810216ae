"""Developer tools that generate committed files (docs), each with a drift test."""
