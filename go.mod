module diminuendo

go 1.26.0
