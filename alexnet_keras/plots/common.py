"""The one way the figure helpers reach pyplot (imported late, so importing the package stays light)."""


def pyplot():
    import matplotlib.pyplot as plt

    return plt
