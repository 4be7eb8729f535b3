"""Map pages: pure functions that build pages; thin routes; vendored assets."""
