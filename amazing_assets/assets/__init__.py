"""Software-defined assets, one module per stage; Dagster wiring only, logic in segmentation/."""
