"""Reading files of every KIND and storing them, checked as a whole first."""
