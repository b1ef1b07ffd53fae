"""Pure logic with no Dagster imports: parsing, cleaning rules, features, segmentation."""
