"""`mcg-gen validate`: the pipeline (`pipeline`), its options and outcome (`options`), and the
rendering and checking of cluster groups (`groups`)."""
