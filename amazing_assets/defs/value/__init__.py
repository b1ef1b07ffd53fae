"""Customer value: purchase-history models (repeat purchases, churn, spend) per buyer and their
back-test (customer_value)."""
