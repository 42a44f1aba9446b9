"""The conformance classes, one folder each: the checks of that class, registered with `@check`.

`shared/` holds what several classes' scenarios use and registers no check."""
