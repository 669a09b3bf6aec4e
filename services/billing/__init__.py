"""Billing: the ledger (invoices, payments, credits, refunds), balances and credit terms per consumer."""
