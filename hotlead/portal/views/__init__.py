"""Portal views: thin, one service call each. Later issues add their own modules next to these."""
