"""GPX and TCX readers: safe XML parsing, the gpxpy reference reader and the fast GPX reader."""
