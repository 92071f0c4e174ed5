"""SLA clocks: business-time maths, policies and the engine that runs the clocks."""
