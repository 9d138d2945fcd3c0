from pikadb.cli import main

main()
