"""The web application: live maps, the map editor and analytics in the browser (``serve``)."""
