"""The test suite: a package, so that tests/archive and tests/crawler never shadow the product packages."""
