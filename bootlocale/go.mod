module bootlocale

go 1.26.0
