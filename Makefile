# The two commands of the README. Everything else is in scripts/.
.PHONY: run test stop

run:  ## prepare everything and serve the product with demo data on http://localhost:8069 (SIMULATE=1: live traffic)
	SIMULATE=$(SIMULATE) scripts/run.sh $(ARGS)

test:  ## the whole test suite on a fresh database
	scripts/test.sh $(ARGS)

stop:  ## stop the project's own PostgreSQL cluster
	scripts/stop.sh
