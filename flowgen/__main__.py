from flowgen.cli.app import main

main()
