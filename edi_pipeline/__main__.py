from edi_pipeline.cli import main

main()
