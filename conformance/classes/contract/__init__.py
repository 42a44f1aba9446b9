"""The contract class: rules judged on every response beside Schemathesis' own, and scenarios
over the contract's links."""
