"""GBFS: a bike-share system's public feeds read into `bike_station` readings."""
