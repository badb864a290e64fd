"""Pure data types of journeylens: the journey-map document and the selector language."""
