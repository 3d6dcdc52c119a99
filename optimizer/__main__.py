from optimizer.cli.main import main

main()
