"""The web dashboard (``/ui`` on the API's listener: :mod:`creditguard.ui.app`) and the HTML report
(:mod:`creditguard.ui.report`); see docs/dashboard.md.  Nothing is imported here: the command line stays quick."""
