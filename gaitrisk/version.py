"""The version of gaitrisk running here (the model card and the cluster check record it)."""

VERSION = "0.1.0"
