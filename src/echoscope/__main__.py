from echoscope.cli import main

main()
